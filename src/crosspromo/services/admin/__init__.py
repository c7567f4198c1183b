"""Running an installation: its database opened, migrated and checked."""
