"""Pieces that run inside Open edX itself: the LMS backend that forwards events to the router."""
