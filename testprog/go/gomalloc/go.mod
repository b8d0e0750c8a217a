module rtmon/testprog/gomalloc

go 1.17
