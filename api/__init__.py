"""The HTTP face of heritage-kg: thin FastAPI routers over the library's functions."""
