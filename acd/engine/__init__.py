"""acd/engine"""
