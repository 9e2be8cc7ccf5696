"""Quality engine: truth inference and agreement, pure numpy; knows nothing of the database."""
