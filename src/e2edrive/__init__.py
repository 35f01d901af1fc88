"""e2edrive: an end-to-end self-driving loop — fleet video → learned driver → closed-loop score → ONNX."""

__version__ = "0.1.0"
