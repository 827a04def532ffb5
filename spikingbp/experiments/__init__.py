"""Experiments: jobs that build circuits, run them and write their results and figures to a directory.

``sgsc``  graded, gated transfer in synfire-gated synfire chains (``run_sgsc``; CLI entry ``main``).
"""
