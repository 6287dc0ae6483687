#!/bin/sh
# Shows what a sandboxed attempt sees: its own user, network, processes and a private workspace.
echo "user: $(id -un) ($(id -u)); host name: $(hostname)"
echo "network interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
echo "processes visible: $(ls /proc | grep -c '^[0-9]')"
echo "written in the sandbox only" > state.txt && cat state.txt
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 8080)); print("bound 127.0.0.1:8080")'
