"""The in-car runtime: onnxruntime + numpy, never torch."""
