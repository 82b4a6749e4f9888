"""Headend (layer 3): the asyncio service with one worker per gateway line that reads meters on a
schedule and carries out commands. It reaches the database only through its repository module.
"""
