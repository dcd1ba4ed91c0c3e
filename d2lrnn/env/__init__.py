"""Environment set-up that runs when d2lrnn is imported, before MXNet loads: the NumPy/MXNet
compatibility layer (_compat), environment variables (_environment), OpenMP threads (_threads),
and the devices MXNet can compute on (device).
"""
