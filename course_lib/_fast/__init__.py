"""Speed twins of the library's reference functions (in place, fused CUDA), looked up by name."""
