"""World adapters (highway-env), scenarios, the Panda3D camera rig and the privileged drivers."""
