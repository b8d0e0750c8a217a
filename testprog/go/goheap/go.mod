module goheap

go 1.17
