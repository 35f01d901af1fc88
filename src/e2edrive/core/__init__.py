"""The shared contract, numpy + standard library only: Observation/Action/Policy, actuator limits, the time
base, the model's I/O shapes and slices, the controllers shared by torch, ONNX and the runtime, camera
calibration maths, atomic file writes and the user-error type. Every other package may import it; it imports
nothing else of e2edrive."""
