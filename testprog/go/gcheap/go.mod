module rtmon/testprog/gcheap

go 1.17
