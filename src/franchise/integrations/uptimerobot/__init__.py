"""The uptimerobot webhook format."""
