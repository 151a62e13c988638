"""acd/web"""
