"""Running releases on a server: the release folder and its ``current`` link
(``releases``), systemd units (``systemd``) and the blue/green switch
(``bluegreen``)."""
