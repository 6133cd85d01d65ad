"""Live streams for subscribers (adaptive engines, notebooks): Server-Sent Events of a consumer.

`hub.Hub` follows the journal for one stream consumer and hands each translated item to every
subscriber (`subscriber.Subscriber`, a bounded buffer); `sse` writes the wire format; the
endpoint is `web.api_stream`.
"""
