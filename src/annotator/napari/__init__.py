"""napari adapters: reader, sample data and layer adapters (napari allowed, Qt not)."""
