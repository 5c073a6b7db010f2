"""Business rules without Flask: each module does one job (see README.md)."""
