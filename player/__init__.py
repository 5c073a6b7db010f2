"""The player process: which assets play in what order, the play loop, the renderers and the
server's commands. It runs apart from the server and never imports Flask.
"""
