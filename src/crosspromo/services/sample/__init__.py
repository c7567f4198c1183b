"""The sample ecosystem written into the store, and everything `crosspromo demo` prepares."""
