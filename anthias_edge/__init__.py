"""Anthias Edge: offline-first digital signage, a drop-in successor to Anthias.

Kept empty on purpose: the server and player import this package at start-up
on a Raspberry Pi, so nothing here may pull in Flask, peewee or ZeroMQ.
"""

__version__ = "0.2.0"
