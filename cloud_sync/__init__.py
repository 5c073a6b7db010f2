"""Both ends of the device-cloud sync wire (built in its own issue)."""
