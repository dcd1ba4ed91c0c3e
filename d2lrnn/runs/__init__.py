"""Runs from the command line (cli: ``python -m d2lrnn``) and the checkpoints they save and resume.
"""
