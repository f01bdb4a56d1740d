package tests

import "syscall"

var interrupt = syscall.SIGTERM
