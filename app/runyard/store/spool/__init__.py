"""The offline spool and the REST store that writes through it when the server is away."""
