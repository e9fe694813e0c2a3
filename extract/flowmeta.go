package extract

// placeholder, replaced shortly
func NewFlowMeta(o Options) Extractor { return nil }
