from storelink.cli import main

# Guarded: worker processes started by `spawn` (the import's row checkers) import this module again.
if __name__ == "__main__":
    main()
