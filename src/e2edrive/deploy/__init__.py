"""Export (torch → ONNX, build time) and the in-car runtime (onnxruntime + numpy only)."""
