import ctypes


def main():
    # Reads address 0: the interpreter dies of SIGSEGV.
    ctypes.string_at(0)
