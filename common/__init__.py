"""Ground floor: settings, output, signals and machine facts every component may use; imports nothing of Limes."""
