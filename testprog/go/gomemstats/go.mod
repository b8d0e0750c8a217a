module rtmon/testprog/gomemstats

go 1.17
