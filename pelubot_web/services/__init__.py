"""Domain logic. Services take plain values, never ``flask.request``; views call them."""
