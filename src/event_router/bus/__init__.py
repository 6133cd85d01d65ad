"""The Open edX event bus (OEP-52) on Redis Streams: wire format, Avro schemas, stream names."""
