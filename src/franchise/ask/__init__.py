"""Ask the owner: answer from the system first; what reaches the owner is an interruption."""
