"""Delivery: each consumer's progress through the journal — route, translate, batch, send, ack."""
