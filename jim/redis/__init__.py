"""Reaching Redis: where it is (L{address}) and a client shaped for jim (L{client}), shared by
the Redis store and the Redis bus."""
