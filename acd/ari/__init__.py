"""acd/ari"""
