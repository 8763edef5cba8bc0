"""Generated protobuf code for protos/ (run `make protos`; never edit by hand)."""
