"""Subscriber, list and segment commands."""
