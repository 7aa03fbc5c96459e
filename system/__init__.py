"""The programs as a whole: the `hailong` command, `up` (broker plus server), the demo and the
simulated fleet. It may import every other package; nothing imports it."""
