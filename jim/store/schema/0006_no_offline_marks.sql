-- Offline marks are no longer read or written: a user's offline messages are read from the
-- message log, from each device's cursor (0005_inbox.sql turned the marks into cursors).

DROP TABLE offline;
