"""acd/sim"""
