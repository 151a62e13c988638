"""acd/core"""
