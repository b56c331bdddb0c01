// swift86: command-line entry point.
print("swift86")
