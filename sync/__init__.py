"""Sapan sync: the wire protocol, the client and the central server."""
