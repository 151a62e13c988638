"""acd/ari_sim"""
