package main

import (
	"image"
	"image/color"
	"testing"
)

func TestGreySpread(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range blank.Pix {
		blank.Pix[i] = 250
	}
	if sd := greySpread(blank); sd > 0.001 {
		t.Errorf("a single-colour picture has spread %.3f, want 0", sd)
	}
	// Dark text-like strokes on a light page: a quarter of the pixels.
	page := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			c := color.RGBA{255, 255, 255, 255}
			if x%4 == 0 {
				c = color.RGBA{0, 0, 0, 255}
			}
			page.Set(x, y, c)
		}
	}
	// A quarter black, three quarters white: sqrt(0.25*0.75)*255 = 110.4.
	if sd := greySpread(page); sd < 110 || sd > 111 {
		t.Errorf("a quarter-dark picture has spread %.1f, want 110.4", sd)
	}
	if sd := greySpread(image.NewGray(image.Rect(0, 0, 0, 0))); sd != 0 {
		t.Errorf("an empty picture has spread %.1f, want 0", sd)
	}
}
