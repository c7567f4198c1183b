"""Pure math: arrays or frames in, frozen results out. Never opens a connection."""
