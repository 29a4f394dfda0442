"""The teaching layer: the network picture, the live page (`app`), GIF animation and replay."""
