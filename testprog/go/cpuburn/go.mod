module rtmon/testprog/cpuburn

go 1.17
