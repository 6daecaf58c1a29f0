"""Channels render the conversation core's replies for one messaging platform each."""
