// Limits of the importer, with what each costs and why it is where it is.
